"""TODO"""

POLICIES: list = []
