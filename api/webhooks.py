"""Inbound webhooks: signed events from other systems become landing files or alert
acknowledgements.

A message is checked as Standard Webhooks v1 (:func:`alerts.channels.verify.verify_webhook`:
signature under the shared secret, timestamp within five minutes); its ``webhook-id`` is then
recorded, and a message whose id was seen before is answered ``duplicate`` without being
applied again (a sender's retry, or a replay of a captured message inside the time window).

Events (``type``):

* ``readings.file`` - ``data.site_id``, ``data.layout`` (optional when the site has one
  CSV/Excel layout), ``data.content_base64``: a readings file, imported like an upload;
* ``alert.acknowledged`` - ``data.event_id`` (the whole id), ``data.actor``, ``data.note``:
  acknowledges the open alert event (:meth:`alerts.state.AlertStore.ack`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Literal, cast

from pydantic import BaseModel, Field
from sqlalchemy import DateTime, String, Table, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from siteledger.state.store import Base, StateStore, utcnow

SECRET_ENV = "SITELEDGER_API_WEBHOOK_SECRET"  # noqa: S105 (the variable's name)
# ids are kept a day: far longer than the five-minute window a replay would have to fit in
KEEP_SEEN = dt.timedelta(days=1)


class WebhookMessage(Base):
    """An inbound webhook message that was verified and applied (or is being applied)."""

    __tablename__ = "api_webhook_messages"

    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    outcome: Mapped[str] = mapped_column(String(256), default="")


TABLES = [WebhookMessage.__table__]


class ReadingsFileData(BaseModel):
    site_id: str = Field(min_length=1, max_length=64)
    layout: str | None = Field(None, max_length=64)
    content_base64: str = Field(min_length=1)

    def content(self) -> bytes:
        try:
            return base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data.content_base64 is not base64") from None


class AckData(BaseModel):
    event_id: str = Field(min_length=1, max_length=40)
    actor: str = Field("webhook", min_length=1, max_length=100)
    note: str | None = Field(None, max_length=2000)


class ReadingsFileEvent(BaseModel):
    type: Literal["readings.file"]
    timestamp: str | None = None
    data: ReadingsFileData


class AckEvent(BaseModel):
    type: Literal["alert.acknowledged"]
    timestamp: str | None = None
    data: AckData


InboundEvent = Annotated[ReadingsFileEvent | AckEvent, Field(discriminator="type")]


class SeenMessages:
    """The ids of messages applied, so that none is applied twice."""

    def __init__(self, store: StateStore):
        self.store = store
        Base.metadata.create_all(store.engine, tables=cast("list[Table]", TABLES))

    def claim(self, message_id: str, kind: str) -> bool:
        """Record the id; False when it was recorded before (a duplicate)."""
        now = utcnow()
        try:
            with self.store.session() as s:
                s.execute(
                    delete(WebhookMessage).where(WebhookMessage.received_at < now - KEEP_SEEN)
                )
                s.add(WebhookMessage(message_id=message_id, type=kind, received_at=now))
        except IntegrityError:
            return False
        return True

    def done(self, message_id: str, outcome: str) -> None:
        with self.store.session() as s:
            row = s.get(WebhookMessage, message_id)
            if row is not None:
                row.outcome = outcome[:256]

    def release(self, message_id: str) -> None:
        """Forget a message that could not be applied, so that the sender's retry is."""
        with self.store.session() as s:
            s.execute(delete(WebhookMessage).where(WebhookMessage.message_id == message_id))
