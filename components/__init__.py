"""Scaling building blocks as Pulumi ComponentResources: typed args in, children parented
to the component and named ``f"{name}-<role>"``, useful outputs registered."""
