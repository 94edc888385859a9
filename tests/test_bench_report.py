"""The benchmark's table stays clean: log lines during a run are held back, not printed."""

import logging

from bench.report import collected_logs, print_logs


def test_log_lines_during_the_run_are_held_back_and_counted_after(capsys, client):
    with collected_logs() as lines:
        logging.getLogger("axes.handlers.database").warning("AXES: New login failure")
        client.get("/no-such-page/")
    assert capsys.readouterr().err == ""
    assert lines == [
        "WARNING axes.handlers.database: AXES: New login failure",
        "WARNING django.request: Not Found: /no-such-page/",
    ]

    print_logs(lines, show=False)
    assert "2 log lines were held back" in capsys.readouterr().err
    print_logs(lines, show=True)
    assert "Not Found: /no-such-page/" in capsys.readouterr().err


def test_the_handlers_are_put_back_after_the_run():
    root = logging.getLogger()
    before = root.handlers[:]
    with collected_logs():
        assert root.handlers != before
    assert root.handlers == before
