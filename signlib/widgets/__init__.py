"""Widgets for notebooks (ipywidgets, with two anywidget drawing surfaces).

- :mod:`~signlib.widgets.explorer`: the sample explorer (language, clip, frame; BIO timeline);
- :mod:`~signlib.widgets.editor` (the keyframe editor's controller, plain Python),
  :mod:`~signlib.widgets.editor_view` (its widget) and :mod:`~signlib.widgets.canvas` (the timeline
  and pose pad, ``static/*.js``);
- :mod:`~signlib.widgets.preference` (the forced-choice preference study: trials, answers, sessions),
  :mod:`~signlib.widgets.preference_stats` (rates and exact intervals) and
  :mod:`~signlib.widgets.preference_view` (its widget).

Controllers hold the logic and are tested without a browser; views only route events and draw.
"""
