"""ipywidgets explorers for notebooks: sample explorer, keyframe editor, preference study."""
