"""The deployment use cases, one module each; every public function is keyword-only."""

from deployments.services.jobs import (
    deploy,
    deploy_refusal,
    holds_key,
    redeploy_replacement,
    retry_step,
    run_step,
    target_refusal,
)
from deployments.services.kubernetes import secret_manifest
from deployments.services.targets import SavedTarget, delete_target, forget_host_key, save_target

__all__ = [
    "SavedTarget",
    "delete_target",
    "deploy",
    "deploy_refusal",
    "forget_host_key",
    "holds_key",
    "redeploy_replacement",
    "retry_step",
    "run_step",
    "save_target",
    "secret_manifest",
    "target_refusal",
]
