"""What wrappers import from Hayhooks, and where the generated service takes it from.

Core names are implemented by the generated ``runtime`` module, so a service whose wrappers
use only those runs without Hayhooks installed. Every other Hayhooks name stays imported
from ``hayhooks``, which then becomes a dependency of the generated project.
"""

from __future__ import annotations

CORE_NAMES = frozenset(
    {
        "BasePipelineWrapper",
        "log",
        "SSEStream",
        "get_last_user_message",
        "is_user_message",
        "get_last_user_input_text",
        "get_input_files",
    }
)

# The 23 names ``hayhooks`` 2.1.0 exports at the top level.
TOP_LEVEL_EXPORTS = frozenset(
    {
        "BasePipelineWrapper",
        "YAMLPipelineWrapper",
        "Pipeline",
        "AsyncPipeline",
        "PipelineEvent",
        "SSEStream",
        "streaming_generator",
        "async_streaming_generator",
        "get_last_user_message",
        "is_user_message",
        "get_last_user_input_text",
        "get_input_files",
        "chat_messages_from_openai_response",
        "default_on_tool_call_start",
        "default_on_tool_call_end",
        "default_on_pipeline_end",
        "log",
        "create_app",
        "run_app",
        "coerce_pipeline_inputs",
        "DurableContext",
        "current_durable_context",
        "durable_streaming_callback",
    }
)

# Deep module paths under which wrappers import the core names.
CORE_DEEP_MODULES: dict[str, frozenset[str]] = {
    "hayhooks.server.utils.base_pipeline_wrapper": frozenset({"BasePipelineWrapper"}),
    "hayhooks.server.logger": frozenset({"log"}),
    "hayhooks.server.pipelines.sse": frozenset({"SSEStream"}),
    "hayhooks.server.pipelines.utils": frozenset(
        {"get_last_user_message", "is_user_message", "get_last_user_input_text", "get_input_files"}
    ),
}

HAYHOOKS_REQUIREMENT = "hayhooks>=2.1.0,<3"


def is_core(module: str, name: str) -> bool:
    """Whether ``from module import name`` is served by the generated runtime."""
    if module == "hayhooks":
        return name in CORE_NAMES
    return name in CORE_DEEP_MODULES.get(module, frozenset())


def canonical_qualname(qualname: str) -> str:
    """Deep path to top-level name: ``hayhooks.server.logger.log`` -> ``hayhooks.log``."""
    module, _, name = qualname.rpartition(".")
    if name in CORE_DEEP_MODULES.get(module, frozenset()):
        return f"hayhooks.{name}"
    return qualname
