"""Stored events read back as eventsourcing's mapper reads them, in less time.

The mapper parses an event's JSON with the standard library and a Python ``object_hook``
called for every object in it (an invoice of twenty lines has about 160). Here msgspec
parses the JSON, and a walk hands the tagged objects (``{"_type_": …, "_data_": …}``,
inner ones first, as the hook sees them) to the transcoder's own transcodings; the rest
(the id, the version, upcasting, the ``_ledger`` seal left out) is what
``LedgerMapper.to_domain_event`` does. A mapper that encrypts or compresses, or another
transcoder, is simply used as it is.
"""

from collections.abc import Hashable
from typing import Any, cast

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Transcoding, find_id_convertor
from eventsourcing.utils import resolve_topic

from domain.ledger import LEDGER, LedgerMapper


class EventDecoder:
    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        self.own = (
            type(mapper) is LedgerMapper
            and mapper.cipher is None
            and mapper.compressor is None
            and type(transcoder) is JSONTranscoder
        )
        self.names: dict[str, Transcoding] = transcoder.names if isinstance(transcoder, JSONTranscoder) else {}
        self.decoders = {name: transcoding.decode for name, transcoding in self.names.items()}
        self.parse = msgspec.json.Decoder().decode
        self.classes: dict[str, type[Any]] = {}

    def __call__(self, stored: StoredEvent) -> DomainEventProtocol[Any]:
        if not self.own:
            return self.mapper.to_domain_event(stored)
        cls = self.classes.get(stored.topic)
        if cls is None:
            cls = self.classes[stored.topic] = resolve_topic(stored.topic)
        try:
            state: dict[str, Any] = self._walk(self.parse(stored.state))
        except (KeyError, msgspec.DecodeError):  # an unknown transcoding, or no JSON: the mapper says which
            return self.mapper.to_domain_event(stored)
        state.pop(LEDGER, None)
        convert = find_id_convertor(cast(Hashable, cls), cast(Hashable, type(stored.originator_id)))
        state["originator_id"] = convert(stored.originator_id)
        state["originator_version"] = stored.originator_version
        class_version = getattr(cls, "class_version", 1)
        version = state.pop("class_version", 1)
        while version < class_version:
            getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
            version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event  # type: ignore[no-any-return]

    def _walk(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            decoders = self.decoders
            for key, inner in value.items():
                kind = type(inner)
                if kind is dict:
                    data = inner.get("_data_")
                    if type(data) is str and len(inner) == 2 and "_type_" in inner:  # a leaf: a number, an id, a date
                        value[key] = decoders[inner["_type_"]](data)
                    else:
                        value[key] = self._walk(inner)
                elif kind is list:
                    value[key] = self._walk(inner)
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return decoders[value["_type_"]](value["_data_"])
            return value
        if kind is list:
            return [self._walk(inner) if type(inner) is dict or type(inner) is list else inner for inner in value]
        return value
