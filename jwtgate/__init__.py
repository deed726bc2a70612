"""jwtgate: checkable, explainable, enforceable JWT/OIDC model-access policies for LLM gateways."""

__version__ = "0.1.0"
