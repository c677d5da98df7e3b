"""The plan: config + git context -> targets x platforms -> jobs with tags and labels.

    model.py  pure: Plan, TargetPlan, Job and make_plan (no I/O)
    load.py   the I/O edge: reads the config file, the git context, the clock
"""
