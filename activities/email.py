"""Send an email over SMTP (executive notifications). The standard library's client, run in a
thread so the worker's event loop is not blocked; a refused or unreachable server raises and
the activity is retried."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from temporalio import activity

from schemas.email import EmailMessageIn
from schemas.settings import Settings


class EmailActivities:
    def __init__(self, host: str | None, port: int, sender: str) -> None:
        self._host, self._port, self._sender = host, port, sender

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailActivities:
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_from)

    def _send(self, message: EmailMessageIn) -> str:
        if self._host is None:
            return "not sent: no SMTP server configured (DDRUN_SMTP_HOST)"
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = ", ".join(message.to)
        mail["Subject"] = message.subject
        mail["X-Ddrun-Incident"] = message.incident_id
        mail.set_content(message.body)
        with smtplib.SMTP(self._host, self._port, timeout=20) as smtp:
            smtp.send_message(mail)
        return f"sent to {', '.join(message.to)}"

    @activity.defn(name="send_email")
    async def send_email(self, message: EmailMessageIn) -> str:
        return await asyncio.to_thread(self._send, message)
