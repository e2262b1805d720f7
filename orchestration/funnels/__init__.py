"""Funnel definitions: YAML that analytics engineers edit, validated in Python and compiled into data.

Nothing from the YAML becomes SQL text: `compile_funnels` writes Parquet tables (funnels, step matchers,
property filters, exclusions, interruptions) that the dbt models join against.
"""

from orchestration.funnels.compile import compile_funnels, config_dir
from orchestration.funnels.definitions import MAX_STEPS, FunnelDefinitionError, load_funnels, validate

__all__ = ["MAX_STEPS", "FunnelDefinitionError", "compile_funnels", "config_dir", "load_funnels", "validate"]
