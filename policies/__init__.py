"""The MortgageMatchPro policy pack (``python -m pulumi.policy <engine> policies``)."""
