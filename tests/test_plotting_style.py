"""The names a reader sees: method labels and code names in words."""
from udml.plotting.style import method_label, words


def test_code_names_read_as_words():
    assert words("salt_pepper") == "salt pepper"
    assert words("unseen: time_mask") == "unseen: time mask"
    assert words("all") == "all"


def test_method_labels_fall_back_to_the_name():
    assert method_label("udml-r") == "UDML-R (ours)"
    assert method_label("udml+mult") == "udml+mult"
