"""Names vulture cannot see used (read by .ci/deadcode.py): called by frameworks or read as data."""
# torch calls forward through nn.Module.__call__; http.server calls the log hooks
forward  # noqa: F821
log_request  # noqa: F821
log_message  # noqa: F821
# pytest calls the hooks of book/conftest.py (the book tier)
pytest_collection_modifyitems  # noqa: F821
pytest_runtest_setup  # noqa: F821
pytest_unconfigure  # noqa: F821
# fields of result records, returned to the caller and printed in the chapters' tables
std_diff  # noqa: F821
notes  # noqa: F821
