"""The one palette every view draws with (HTML, SVG, check results, histories).

Named by meaning, not by hue, so a view says what a colour stands for and a change of colour is one
line here. Plain strings, no imports: the core's HTML history uses it without loading widgets.
"""

OK = "#188038"          # passed, right answer, a workflow event
BAD = "#d93025"         # failed, wrong answer, a failure event
WARN = "#9a6700"        # could not run (a check error)
NEXUS = "#1a73e8"       # Nexus events and the active step
NEXUS_BG = "#e8f0fe"    # background of a Nexus row or the active step
PROBLEM_BG = "#fdecea"  # background of a problem row
RETRY = "#f29900"
CANCEL = "#e37400"
ACTIVITY = "#9334e6"
LINK = "#a142f4"        # links between histories
FOCUS = "#fde293"       # the halo around the event in focus
MUTED = "#5f6368"       # pending, other events
FAINT = "#9aa0a6"       # workflow-task events
SOFT_TEXT = "#666666"   # captions and idle text
RULE = "#cccccc"        # borders and lane axes
GRID = "#eeeeee"
LANE_ALT = "#fafafa"
PAPER = "#ffffff"
IDLE_BG = "#f8f9fa"
