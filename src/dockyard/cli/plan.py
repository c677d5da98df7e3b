"""`dockyard plan`: placeholder until the plan module lands."""
