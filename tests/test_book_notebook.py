import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from udml.book.notebook import glue_figure  # noqa: E402


def test_glue_figure_stores_the_figure_and_closes_it(monkeypatch):
    stored = {}
    import myst_nb
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: stored.update(
        {name: (value, display)}))
    fig = plt.figure()
    glue_figure("fig-x", fig)
    assert stored == {"fig-x": (fig, False)}  # shown by the {glue:figure} directive, not inline
    assert not plt.fignum_exists(fig.number)
