"""The sources and health page (`/sources`) and its API (`/api/sources`, `/api/channels`):
every configured feed's polling state as `watcher sources` shows it, and how each channel's
deliveries stand, so the team sees a broken feed or a stuck channel without a shell."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import BaseModel, Field

from watcher.sources.status import SourceStatus, Status, source_status
from watcher.store import SourceState
from watcher.store.channel_health import ChannelHealth, ChannelHealthReport
from watcher.web.auth import Viewer
from watcher.web.context import Web, web_of
from watcher.web.pages import is_htmx, render
from watcher.when import as_utc, format_duration

router = APIRouter()


class SourceOut(BaseModel):
    """One configured feed's polling state, as `watcher sources --format jsonl` gives it."""

    name: str
    url: str | None = Field(description="Where it is fetched (a 301/308 may have moved it); "
                                         "a password or token in it is shown as ****")
    every: int = Field(description="Seconds between polls")
    status: Status
    broken: bool = Field(description="Disabled, or its last poll failed")
    last_poll: datetime | None
    last_success: datetime | None
    new_items: int = Field(description="New articles stored by the last successful poll")
    errors: int = Field(description="Polls in a row that failed")
    last_error: str | None = Field(description="The last failure (kept after a recovery)")
    warning: str | None = Field(description="Why the last feed was malformed (entries kept)")
    next_poll_after: datetime | None = Field(description="Backing off until then")
    disabled: str | None = Field(description="Why it is no longer polled")


class SourcesOut(BaseModel):
    sources: list[SourceOut]


class ChannelOut(BaseModel):
    """One channel's deliveries by status."""

    name: str
    configured: bool = Field(description="Named in watcher.yaml's channels")
    pending: int
    sent: int
    dead: int = Field(description="Given up after every attempt failed, or dropped")
    silenced: int = Field(description="Held back by a silence: never sent")
    oldest_pending: datetime | None = Field(description="When the oldest waiting one was made")


class ChannelsOut(BaseModel):
    channels: list[ChannelOut]


@router.get("/sources", response_class=HTMLResponse, include_in_schema=False)
def sources_page(request: Request, actor: Viewer) -> HTMLResponse:
    web = web_of(request)
    now = web.now()
    values = {"sources": configured_sources(web), "channels": channels(web),
              "moment": lambda at: shown_moment(at, now), "format_duration": format_duration}
    if is_htmx(request):  # the periodic refresh: the health section alone
        return render(request, "sources_health.html", **values)
    return render(request, "sources.html", **values)


@router.get("/api/sources", response_model=SourcesOut, summary="Sources and their state")
def api_sources(request: Request, actor: Viewer) -> SourcesOut:
    """Every source configured in watcher.yaml, by its order there, with its polling state
    (`watcher sources`): a broken one is disabled or failed its last poll."""
    return SourcesOut(sources=[_source_out(status) for status in configured_sources(
        web_of(request))])


@router.get("/api/channels", response_model=ChannelsOut, summary="Channels' deliveries")
def api_channels(request: Request, actor: Viewer) -> ChannelsOut:
    """Every configured channel, and any other with deliveries, by name: its deliveries
    pending, sent, dead and silenced, and when the oldest pending one was made."""
    configured = _configured_channels(web_of(request))
    return ChannelsOut(channels=[
        ChannelOut(name=health.channel, configured=health.channel in configured,
                   oldest_pending=health.oldest_pending, **health.counts)
        for health in channels(web_of(request))])


def configured_sources(web: Web) -> list[SourceStatus]:
    """The configured sources with their state; one never polled yet has none stored."""
    states = {state.name: state for state in web.store.source_states()}
    return [source_status(states.get(source.name, SourceState(source.name, url=source.url)),
                          every=source.every)
            for source in web.settings.sources]


def channels(web: Web) -> list[ChannelHealth]:
    return ChannelHealthReport(web.store).channels(_configured_channels(web))


def _configured_channels(web: Web) -> tuple[str, ...]:
    return tuple(web.settings.channels or ())


def _source_out(status: SourceStatus) -> SourceOut:
    return SourceOut(
        name=status.name, url=status.url, every=status.every, status=status.status,
        broken=status.broken, last_poll=status.last_poll, last_success=status.last_success,
        new_items=status.new_items, errors=status.errors, last_error=status.last_error,
        warning=status.warning, next_poll_after=status.next_poll_after,
        disabled=status.disabled,
    )


def shown_moment(moment: datetime | None, now: datetime) -> Markup:
    """A moment for people: UTC to the second, and how long ago (or how soon) it is."""
    if moment is None:
        return Markup("never")
    moment = as_utc(moment)
    return Markup('<time datetime="{}">{}</time> ({})').format(
        moment.isoformat().replace("+00:00", "Z"), moment.strftime("%Y-%m-%d %H:%M:%S"),
        ago(moment, now))


def ago(moment: datetime, now: datetime) -> str:
    """`5m ago`, `in 2m`, `just now`: how far a moment is from now, for people."""
    seconds = int((now - moment).total_seconds())
    if abs(seconds) < 60:
        return "just now"
    span = format_duration(abs(seconds) // 60 * 60)
    return f"{span} ago" if seconds > 0 else f"in {span}"
