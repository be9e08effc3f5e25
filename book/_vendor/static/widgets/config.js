// Settings for the vendored ipywidgets HTML manager (embed-amd.js); loaded before require.js.
(function () {
  // 1. Its icon fonts lie next to this file. The manager locates them from the RequireJS module
  //    "@jupyter-widgets/html-manager/dist/libembed-amd": map that name here (a global
  //    `require` object defined before require.js loads is its configuration), or it asks for
  //    them under the page's own folder, where they are not.
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  window.require = {paths: {"@jupyter-widgets/html-manager/dist": here.replace(/\/$/, "")}};
  // 2. The controls typeset math in their labels with the MathJax 2 call MathJax.Hub.Queue; the
  //    book loads MathJax 3. Map that call onto MathJax 3's typesetPromise once MathJax is up
  //    (it is loaded with `defer`, so it is ready when the page's load event fires).
  window.addEventListener("load", function () {
    var mathjax = window.MathJax;
    if (mathjax && mathjax.typesetPromise && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function (job) {
          var element = job && job[2];
          return mathjax.typesetPromise(element ? [element] : undefined);
        },
      };
    }
  });
})();
