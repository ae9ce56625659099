"""The published contracts as files: each service's OpenAPI document and one AsyncAPI 3
document for every event (CloudEvents envelope + each event's data schema).

``python -m sop_shared.contracts write`` regenerates them under ``deploy/contracts``;
``check`` exits non-zero on drift (a test runs it, so code and files stay in step).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from sop_shared.events.catalog import EVENT_TYPES
from sop_shared.events.envelope import CloudEvent

ROOT = Path(__file__).resolve().parents[3]
CONTRACTS = ROOT / "deploy" / "contracts"
SERVICES = ("demand", "supply", "capacity", "cycle")


def openapi(service: str) -> dict[str, Any]:
    main = importlib.import_module(f"sop_{service}.main")
    settings_module = importlib.import_module(f"sop_{service}.settings")
    settings = settings_module.get_settings().model_copy(update={"run_workers": False})
    return main.create_app(settings).openapi()  # type: ignore[no-any-return]


def asyncapi() -> dict[str, Any]:
    envelope = CloudEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = {"CloudEvent": envelope}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages_by_topic: dict[str, dict[str, Any]] = {}
    for spec in EVENT_TYPES.values():
        data_schema = spec.data_model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in data_schema.pop("$defs", {}).items():
            schemas[name] = sub
        schemas[spec.data_model.__name__] = data_schema
        message_name = spec.type.replace(".", "_")
        messages_by_topic.setdefault(spec.topic, {})[message_name] = {
            "name": spec.type,
            "title": spec.type,
            "summary": spec.summary,
            "contentType": "application/cloudevents+json",
            "headers": {
                "type": "object",
                "properties": {
                    "event_id": {"type": "string"},
                    "event_type": {"type": "string", "const": spec.type},
                    "schema_version": {"type": "string"},
                    "correlation_id": {"type": "string"},
                    "traceparent": {"type": "string"},
                },
            },
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": spec.type},
                            "data": {"$ref": f"#/components/schemas/{spec.data_model.__name__}"},
                        },
                    },
                ]
            },
        }
    components_messages: dict[str, Any] = {}
    for topic, messages in sorted(messages_by_topic.items()):
        channel = topic.replace(".", "_")
        components_messages.update(messages)
        channels[channel] = {
            "address": topic,
            "description": f"Events of the {topic.split('.')[1]} domain, keyed by cycle or aggregate id.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
        }
        operations[f"publish_{channel}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"The {topic.split('.')[1]} service publishes (through its outbox).",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "S&OP platform events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 (structured JSON) on one Kafka topic per producing domain.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": components_messages, "schemas": schemas},
    }


def documents() -> dict[str, dict[str, Any]]:
    docs = {f"{s}.openapi.json": openapi(s) for s in SERVICES}
    docs["events.asyncapi.json"] = asyncapi()
    return docs


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def write() -> None:
    CONTRACTS.mkdir(parents=True, exist_ok=True)
    for name, doc in documents().items():
        (CONTRACTS / name).write_text(_dump(doc))


def drift() -> list[str]:
    out = []
    for name, doc in documents().items():
        path = CONTRACTS / name
        if not path.exists() or path.read_text() != _dump(doc):
            out.append(name)
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["write"]:
        write()
    else:
        changed = drift()
        if changed:
            sys.stderr.write(f"contracts drifted from the code: {changed}; run `make contracts`\n")
            raise SystemExit(1)
