"""Explicit AWS providers: the stack's region, and us-east-1 for the global services
(CloudFront certificates and WAF, Cost Anomaly Detection, CloudFront metrics).
Both stamp the mandatory cost-allocation tags on every taggable resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from infra.config import StackConfig

GLOBAL_REGION = "us-east-1"


@dataclass
class Providers:
    config: StackConfig
    regional: aws.Provider
    _global: Optional[aws.Provider] = field(default=None, repr=False)

    @property
    def global_(self) -> aws.Provider:
        """The us-east-1 provider, created the first time a component asks for it."""
        if self._global is None:
            self._global = _provider("aws-global", GLOBAL_REGION, self.config)
        return self._global


def _provider(name: str, region: str, config: StackConfig) -> aws.Provider:
    return aws.Provider(
        name,
        region=region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.resource_tags()),
    )


def make_providers(config: StackConfig) -> Providers:
    return Providers(config=config, regional=_provider("aws", config.region, config))


def opts_for(providers: Providers) -> pulumi.ResourceOptions:
    """Options for a top-level component: its children inherit the regional provider."""
    return pulumi.ResourceOptions(providers={"aws": providers.regional})
