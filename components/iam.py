"""IAM documents more than one component needs."""

from __future__ import annotations

import json


def assume_role_policy(service: str) -> str:
    """Trust policy that lets one AWS service (``ec2.amazonaws.com``, ...) assume the role."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
