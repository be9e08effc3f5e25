#!/usr/bin/env bash
# Regenerate book/_vendor/static/ from the npm registry: the few files the rendered book needs
# at view time (MathJax, the ipywidgets HTML manager, RequireJS), so that the built HTML renders
# fully offline. Exact versions are pinned here and recorded in README.md and SHA256SUMS.
#   usage: bash book/_vendor/fetch.sh        (needs npm; writes book/_vendor/static/ anew)
set -euo pipefail

MATHJAX=3.2.2
HTML_MANAGER=1.0.15
REQUIREJS=2.3.8

here=$(cd "$(dirname "$0")" && pwd)
static="$here/static"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "mathjax@$MATHJAX" "@jupyter-widgets/html-manager@$HTML_MANAGER" \
    "requirejs@$REQUIREJS" > /dev/null
for pkg in mathjax-$MATHJAX jupyter-widgets-html-manager-$HTML_MANAGER requirejs-$REQUIREJS; do
    mkdir "$pkg" && tar xzf "$pkg.tgz" -C "$pkg"
done

rm -rf "$static"
mkdir -p "$static/mathjax/output/chtml/fonts" "$static/mathjax/input/tex" \
    "$static/widgets" "$static/require"

# MathJax: the TeX-to-CommonHTML component, its web fonts and the TeX extensions that its
# autoload mechanism fetches on demand (\boldsymbol, \color, ...). Not the speech engine (sre).
mj="mathjax-$MATHJAX/package"
cp "$mj/es5/tex-chtml.js" "$static/mathjax/"
cp -r "$mj/es5/output/chtml/fonts/woff-v2" "$static/mathjax/output/chtml/fonts/"
cp -r "$mj/es5/input/tex/extensions" "$static/mathjax/input/tex/"
cp "$mj/LICENSE" "$static/mathjax/LICENSE"

# ipywidgets HTML manager: the AMD bundle (widget base, controls and output models built in)
# and the woff2 icon fonts it references next to itself. The package ships no LICENSE file;
# its licence (BSD-3-Clause) is recorded in README.md, third-party notices are copied.
hm="jupyter-widgets-html-manager-$HTML_MANAGER/package"
cp "$hm/dist/embed-amd.js" "$static/widgets/"
cp "$hm"/dist/*.woff2 "$static/widgets/"
cp "$hm/dist/embed.js.LICENSE.txt" "$static/widgets/THIRD-PARTY-NOTICES.txt"

# Two settings the manager needs on an offline page, written here rather than fetched: load
# this file before require.js (see nb_ipywidgets_js in _config.yml).
cat > "$static/widgets/config.js" <<'JS'
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
JS

# RequireJS (MIT; the licence is in the file's header).
cp "requirejs-$REQUIREJS/package/require.js" "$static/require/"

cd "$here"
find static -type f | LC_ALL=C sort | xargs sha256sum > SHA256SUMS
du -sh static
