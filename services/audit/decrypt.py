"""Decrypt every encrypted payload of a history in place, so the audit reads plain JSON."""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload

Decrypt = Callable[[Payload], Payload]


def decrypt_message(message: Message, decrypt: Decrypt) -> None:
    """Walk the message tree; every Payload found is replaced by `decrypt(payload)`."""
    for field, value in message.ListFields():
        kind = field.message_type
        if field.type != FieldDescriptor.TYPE_MESSAGE or kind is None:
            continue
        if kind.GetOptions().map_entry:
            value_field = kind.fields_by_name["value"]
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                for key in list(value):
                    _visit(value[key], decrypt)
        elif field.is_repeated:
            for item in value:
                _visit(item, decrypt)
        else:
            _visit(value, decrypt)


def _visit(message: Message, decrypt: Decrypt) -> None:
    if isinstance(message, Payload):
        plain = decrypt(message)
        if plain is not message:
            message.CopyFrom(plain)
        return
    decrypt_message(message, decrypt)
