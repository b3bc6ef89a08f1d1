"""The progress bar: its text, in-place redraws on a terminal, occasional lines elsewhere."""

import io

from matsvc.progress import ProgressBar, render


def test_render_shows_bar_percent_and_stage():
    assert render(0.3, "fitting maps") == "[#########.....................]  30% fitting maps"
    assert render(0, "") == "[..............................]   0%"
    assert render(1, "done", label="capture") == "capture [##############################] 100% done"


def test_render_clamps_and_keeps_to_one_line():
    assert render(1.7, "x").startswith("[" + "#" * 30 + "] 100%")
    assert render(-1).endswith("  0%")
    line = render(0.5, "tile 3/9:\n  a very long stage text " + "x" * 100)
    assert "\n" not in line and line.endswith("…") and len(line) < 90


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_on_a_terminal_the_line_is_redrawn_in_place():
    stream = io.StringIO()
    bar = ProgressBar("job", stream=stream, is_tty=True)
    bar.update(0.5, "a long stage name")
    bar.update(0.6, "short")
    bar.close()
    first, second = stream.getvalue().split("\r")[1:]
    assert first == render(0.5, "a long stage name", "job")
    # The shorter line blanks what is left of the longer one, then the bar ends its line.
    assert second == render(0.6, "short", "job").ljust(len(first)) + "\n"


def test_off_a_terminal_lines_come_on_stage_changes_steps_and_now_and_then():
    stream, clock = io.StringIO(), Clock()
    bar = ProgressBar(stream=stream, is_tty=False, step=0.1, interval=30, clock=clock)
    for fraction in (0.0, 0.01, 0.02, 0.05):
        bar.update(fraction, "fitting")
    clock.now = 31
    bar.update(0.06, "fitting")  # nothing new, but a while since the last line
    bar.update(0.07, "writing")  # a new stage
    bar.update(0.5, "writing")  # a big step
    bar.update(1.0, "writing")
    bar.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert [line.split("] ")[1] for line in lines] == ["  0% fitting", "  6% fitting", "  7% writing",
                                                      " 50% writing", "100% writing"]
