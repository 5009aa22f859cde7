"""The review queue in the browser: server-rendered pages over the store's review items.

Pages: `/login` (an API key with the `review` scope -> a session cookie), `/review` (the
queue, filtered by model, label and maximum confidence, in pages of PAGE_SIZE), `/review/{id}`
(one item: input, model output, confidence, and the accept / correct / escalate forms, with
keyboard shortcuts).
Filtering, counting, paging and the previous/next links are store queries, whatever the queue's
size. No external assets: the CSS and the few lines of JavaScript are inline, allowed by a
per-response CSP nonce and nothing else.

Signing in starts a server-side session (`store.start_session`): the cookie holds only the
session's random token (HttpOnly, SameSite=Strict, Secure over https, expiring after
`SESSION_HOURS`), never the key. Every page checks it with `store.session_info`, so signing out
(which ends the session in the store), revoking the key or taking its `review` scope away logs
the browser out at once. Decisions are recorded under the key's name: a reviewer cannot claim to
be someone else. Every form that changes something carries the session's CSRF token (checked in
constant time) and, when the browser sends an Origin, it must be this server's.
"""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Annotated, Any, Protocol
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import jinja2
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from narrowtune.errors import NarrowtuneError
from narrowtune.serve.auth import SESSION, SESSION_COOKIE
from narrowtune.store import SESSION_HOURS, ReviewConflict, ReviewNotFound, SessionInfo, Store

# Queue rows per page; the next page starts after the last id shown.
PAGE_SIZE = 100
MAX_BODY = 64 * 1024
# Store ids are signed 64-bit; a bigger id overflowed the database driver (500), now 422.
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DONE_WORDS = {"accept": "accepted", "correct": "corrected", "escalate": "escalated"}


class ModelCatalog(Protocol):
    """What the pages need to know about the served models (the server's ModelRegistry)."""

    def names(self) -> list[str]: ...

    def labels_for(self, name: str | None) -> tuple[list[str], bool]:
        """The labels of the model named `name` (an item's task) and whether it is multi-label;
        ([], False) when it has none or is not served."""
        ...


_BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %} · narrowtune review</title>
<style nonce="{{ nonce }}">
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1.2rem;background:#1d232a;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}header .who{margin-left:auto}
header form{margin:0}main{max-width:60rem;margin:1.2rem auto;padding:0 1.2rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
tr.sel{background:#fff4c2}td.text{max-width:34rem;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #e3e6ea;
padding:.8rem;font:14px/1.4 ui-monospace,monospace}
.box{background:#fff;border:1px solid #e3e6ea;padding:1rem;margin:1rem 0}
.row{display:flex;gap:.8rem;flex-wrap:wrap;align-items:end}
.row form{margin:0;display:flex;gap:.4rem;align-items:end}
button,select,input{font:inherit;padding:.3rem .6rem}
.msg{padding:.5rem .8rem;background:#e6f4ea;border:1px solid #b7dfc1}
.err{padding:.5rem .8rem;background:#fdecea;border:1px solid #f5c2bd}
.muted{color:#5b6570}kbd{border:1px solid #aab;border-radius:3px;padding:0 .3rem;background:#fff}
meter{width:10rem}label{display:block}
</style></head><body>
<header><a href="/review">narrowtune review</a>
{% if reviewer %}<span class="who">Signed in as <b id="reviewer">{{ reviewer }}</b></span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{ csrf }}">
<button>Sign out</button></form>{% endif %}
</header><main>
{% if message %}<p class="msg" role="status">{{ message }}</p>{% endif %}
{% if error %}<p class="err" role="alert">{{ error }}</p>{% endif %}
{% block body %}{% endblock %}
</main>
{% block script %}{% endblock %}
</body></html>
"""

_LOGIN = """{% extends "base" %}{% block title %}Sign in{% endblock %}{% block body %}
<h1>Sign in to review</h1>
<form method="post" action="/login" class="box">
<input type="hidden" name="next" value="{{ next }}">
<p><label>API key <input name="key" type="password" autocomplete="off" required autofocus
 size="50"></label></p>
<button type="submit">Sign in</button>
</form>
<p class="muted">Decisions are recorded under the key's name. Create a key that may review with
<code>narrowtune keys create NAME --scope review</code>.</p>
{% endblock %}"""

_LIST = """{% extends "base" %}{% block title %}Queue{% endblock %}{% block body %}
<h1>Review queue</h1>
<form method="get" action="/review" class="box row" id="filters">
{% if models|length > 1 %}<label>Model <select name="model" id="f-model">
<option value="">any</option>{% for name in models %}<option{% if name == model %} selected
{% endif %}>{{ name }}</option>{% endfor %}</select></label>{% endif %}
<label>Label <select name="label" id="f-label"><option value="">any</option>
{% for name in labels %}<option{% if name == label %} selected{% endif %}>{{ name }}</option>
{% endfor %}</select></label>
<label>Max confidence <input name="max_confidence" id="f-conf" size="5" inputmode="decimal"
 value="{{ max_confidence }}" placeholder="1.0"></label>
<label><input type="checkbox" name="include_escalated" value="1"
{% if include_escalated %} checked{% endif %}> include escalated</label>
<button type="submit">Filter</button> <a href="/review">clear</a>
</form>
<p class="muted"><span id="count">{{ total }}</span> item{{ "" if total == 1
 else "s" }} waiting{% if total > items|length %}; showing {{ items|length }}{% endif %}.
 Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> open.</p>
{% if items %}<table id="queue"><thead><tr><th>#</th>{% if models|length > 1 %}<th>Model</th>
{% endif %}<th>Input</th><th>Model label</th><th>Confidence</th><th>Status</th></tr></thead><tbody>
{% for item in items %}<tr data-href="{{ item.href }}" id="item-{{ item.id }}">
<td><a href="{{ item.href }}">{{ item.id }}</a></td>{% if models|length > 1 %}
<td class="model">{{ item.task or "" }}</td>{% endif %}<td class="text">{{ item.short }}</td>
<td class="label">{{ item.label_text }}</td><td>{{ "%.2f"|format(item.confidence) }}</td>
<td>{{ item.status }}</td></tr>
{% endfor %}</tbody></table>
{% if next_page %}<p><a href="{{ next_page }}" id="next-page">next {{ page_size }} &rarr;</a>
</p>{% endif %}{% else %}<p class="box">Nothing to review here.</p>{% endif %}
{% endblock %}
{% block script %}<script nonce="{{ nonce }}">
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr"));
  var at = rows.length ? 0 : -1;
  function show() {
    rows.forEach(function (r, i) { r.classList.toggle("sel", i === at); });
    if (at >= 0) rows[at].scrollIntoView({block: "nearest"});
  }
  show();
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") return;
    if (!rows.length) return;
    if (ev.key === "j") { at = Math.min(at + 1, rows.length - 1); show(); }
    else if (ev.key === "k") { at = Math.max(at - 1, 0); show(); }
    else if (ev.key === "Enter") { window.location = rows[at].dataset.href; }
    else return;
    ev.preventDefault();
  });
})();
</script>{% endblock %}"""

_ITEM = """{% extends "base" %}{% block title %}Item {{ item.id }}{% endblock %}{% block body %}
<p><a href="/review{{ qs }}">&larr; queue</a>
{% if prev_href %}· <a href="{{ prev_href }}" id="prev">previous (k)</a>{% endif %}
{% if next_href %}· <a href="{{ next_href }}" id="next">next (j)</a>{% endif %}</p>
<h1>Item {{ item.id }} <small class="muted">{{ item.status }}</small></h1>
<h2>Input</h2><pre id="input">{{ item.text }}</pre>
<div class="box">{% if item.output is not none %}<h2>Model output</h2>
<pre id="model-output">{{ item.output_text }}</pre>
{% if not item.valid %}<p class="err">The output failed its contract.</p>{% endif %}
{% if item.missing %}<p>Missing: <span id="missing">{{ item.missing|join(", ") }}</span></p>
{% endif %}{% if item.problems %}<ul id="problems">{% for problem in item.problems %}
<li>{{ problem }}</li>{% endfor %}</ul>{% endif %}{% endif %}
<p>Model says <b id="model-label">{{ item.label_text }}</b>
with confidence <b id="confidence">{{ "%.3f"|format(item.confidence) }}</b></p>
{% if item.outcome %}<p>Moderation outcome <b id="outcome">{{ item.outcome }}</b></p>
<ul id="reasons">{% for reason in item.reasons %}<li>{{ reason }}</li>{% endfor %}</ul>{% endif %}
<table><thead><tr><th>Label</th><th>Score</th><th></th></tr></thead><tbody>
{% for name, score in scores %}<tr><td>{{ name }}</td><td>{{ "%.3f"|format(score) }}</td>
<td><meter min="0" max="1" value="{{ score }}"></meter></td></tr>{% endfor %}
</tbody></table>
<p class="muted">Model {{ item.task or "" }} · run {{ item.model }} ·
request {{ item.request_id }} · {{ item.created }}</p>
</div>
{% if item.fields %}<div class="box"><h2>Fields</h2>
<p>Check the highlighted fields; the others were confident enough to pass on their own.</p>
<form method="post" action="/review/{{ item.id }}" id="fields-form">{{ hidden }}
<input type="hidden" name="action" value="correct">
<table id="fields"><thead><tr><th>Field</th><th>Value</th></tr></thead><tbody>
{% for name, value in field_rows %}{% if name in item.check %}
<tr class="check"><td><b>{{ name }}</b> <span class="err">check</span></td><td>
<textarea name="field:{{ name }}" rows="2" cols="60">{{ value }}</textarea></td></tr>
{% else %}<tr><td>{{ name }}</td><td><code>{{ value }}</code></td></tr>{% endif %}{% endfor %}
</tbody></table>
<button type="submit" id="save-fields">Save checked fields</button></form>
<p class="muted">Values are JSON (a number, "text", a [list], null); anything else is kept as
text. Accept confirms every field as shown.</p></div>{% endif %}
<div class="box row">
<form method="post" action="/review/{{ item.id }}" id="accept-form">{{ hidden }}
<input type="hidden" name="action" value="accept">
<button type="submit" id="accept">Accept (a)</button></form>
<form method="post" action="/review/{{ item.id }}" id="correct-form">{{ hidden }}
<input type="hidden" name="action" value="correct">
<label>Correct label (c)
{% if labels %}<select name="label" id="correct-label" required{% if multi_label %} multiple
{% endif %}>{% if not multi_label %}<option value="">choose…</option>{% endif %}
{% for name in labels %}<option>{{ name }}</option>{% endfor %}</select>
{% elif item.kind == "generate" or item.output is not none %}<textarea name="label"
 id="correct-label" required rows="6" cols="70">{{ item.output_text }}</textarea>
{% else %}<input name="label" id="correct-label" required>{% endif %}</label>
<button type="submit" id="correct">Correct</button></form>
<form method="post" action="/review/{{ item.id }}" id="escalate-form">{{ hidden }}
<input type="hidden" name="action" value="escalate">
<button type="submit" id="escalate"{% if item.status != "open" %} disabled
 title="already escalated"{% endif %}>Escalate (e)</button></form>
</div>
<p class="muted">Keys: <kbd>a</kbd> accept · <kbd>c</kbd> choose the correct label ·
<kbd>e</kbd> escalate · <kbd>j</kbd>/<kbd>k</kbd> next/previous · <kbd>Esc</kbd> leave a field.</p>
{% endblock %}
{% block script %}<script nonce="{{ nonce }}">
(function () {
  var next = {{ next_href|tojson }}, prev = {{ prev_href|tojson }};
  function submit(id) {
    var button = document.getElementById(id);
    if (button && !button.disabled) button.form.requestSubmit(button);
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    if (ev.key === "a") submit("accept");
    else if (ev.key === "e") submit("escalate");
    else if (ev.key === "c") document.getElementById("correct-label").focus();
    else if (ev.key === "j" && next) window.location = next;
    else if (ev.key === "k" && prev) window.location = prev;
    else return;
    ev.preventDefault();
  });
})();
</script>{% endblock %}"""

_MISSING = """{% extends "base" %}{% block title %}Not in the queue{% endblock %}
{% block body %}<h1>Item {{ item_id }} is not in the queue</h1>
<p>It was already decided, or it never existed. <a href="/review{{ qs }}">Back to the queue</a></p>
{% endblock %}"""

_ENV = jinja2.Environment(
    loader=jinja2.DictLoader(
        {"base": _BASE, "login": _LOGIN, "list": _LIST, "item": _ITEM, "missing": _MISSING}
    ),
    autoescape=True,  # every value a user or a model produced is escaped on output
    undefined=jinja2.StrictUndefined,
)


def _label_text(label: Any) -> str:
    return ", ".join(label) if isinstance(label, list) else str(label)


def _field_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _checked_fields(item: dict[str, Any], form: dict[str, list[str]]) -> dict[str, Any] | None:
    """The item's fields with the reviewer's values for the fields it asked to check (values
    posted for other fields are ignored); None when the form carries no field values."""
    fields = item.get("fields")
    if not isinstance(fields, dict) or not any(k.startswith("field:") for k in form):
        return None
    out = dict(fields)
    for name in item.get("check") or []:
        given = form.get(f"field:{name}")
        if not given:
            continue
        try:
            out[name] = json.loads(given[0])
        except ValueError:
            out[name] = given[0]
    return out


def _output_text(output: Any) -> str:
    if output is None or isinstance(output, str):
        return output or ""
    return json.dumps(output, indent=2, ensure_ascii=False)


def _filters(
    label: str, max_confidence: str, include_escalated: bool, model: str = ""
) -> dict[str, str]:
    """The non-empty filter values, in the order they appear in URLs."""
    values = {"model": model, "label": label, "max_confidence": max_confidence}
    if include_escalated:
        values["include_escalated"] = "1"
    return {k: v for k, v in values.items() if v}


def _query(filters: dict[str, str], **extra: str) -> str:
    values = {**filters, **extra}
    return "?" + urlencode(values) if values else ""


def _parse_confidence(value: str) -> float | None:
    """The max-confidence filter as a number in [0, 1]; raises ValueError with a message."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"max confidence must be a number from 0 to 1, not {value!r}")
    return number


def _done_message(done: int | None, did: str) -> str | None:
    """The note after a decision; only words the pages themselves put in the link are shown."""
    if done is None or did not in DONE_WORDS.values():
        return None
    return f"Item {done} {did}."


def _safe_next(target: str) -> str:
    """Only a local review path: a login link must never redirect to another site."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/review"):
        return "/review"
    return target


class _OneModel:
    """A catalog of one unnamed model: every item gets these labels."""

    def __init__(self, labels: list[str], multi_label: bool) -> None:
        self._labels, self._multi = list(labels), multi_label

    def names(self) -> list[str]:
        return []

    def labels_for(self, name: str | None) -> tuple[list[str], bool]:
        return list(self._labels), self._multi


def add_review_pages(
    app: FastAPI,
    store: Store,
    labels: list[str] | None = None,
    *,
    multi_label: bool = False,
    catalog: ModelCatalog | None = None,
) -> None:
    """Add the review-queue pages to `app`.

    `catalog` tells each item's labels (offered when correcting) by its model's name; without
    one, `labels` (and `multi_label`) apply to every item.
    """
    models: ModelCatalog = catalog if catalog is not None else _OneModel(labels or [], multi_label)

    def all_labels() -> list[str]:
        seen: dict[str, None] = {}
        for name in models.names() or [None]:
            seen.update(dict.fromkeys(models.labels_for(name)[0]))
        return list(seen)

    def render(
        request: Request, template: str, status_code: int = 200, **values: Any
    ) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        session = values.pop("session", None)
        values["reviewer"] = session.name if session is not None else None
        values["csrf"] = session.csrf if session is not None else ""
        values.setdefault("message", None)
        values.setdefault("error", None)
        html = _ENV.get_template(template).render(nonce=nonce, **values)
        response = HTMLResponse(html, status_code=status_code)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    def signed_in(request: Request) -> SessionInfo | None:
        """The browser's live session (its reviewer and CSRF token), else None."""
        checked = request.scope.get(SESSION)  # the Guard's answer for this same request
        if isinstance(checked, SessionInfo):
            return checked
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token or len(token) > 200 or not token.isascii():
            return None
        return store.session_info(token)

    def may_change(request: Request, session: SessionInfo, form: dict[str, list[str]]) -> bool:
        """A post that changes something: same origin, and the session's CSRF token."""
        sent = (form.get("csrf") or [""])[0]
        return same_origin(request) and hmac.compare_digest(
            sent.encode("utf-8", "replace"), session.csrf.encode()
        )

    def to_login(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    async def read_form(request: Request) -> dict[str, list[str]]:
        """An urlencoded form body (parsed here: no python-multipart dependency for 3 fields)."""
        body = await request.body()
        if len(body) > MAX_BODY:
            return {}
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)

    def same_origin(request: Request) -> bool:
        """SameSite=Strict already stops cross-site posts; the Origin check is a second lock."""
        origin = request.headers.get("origin")
        return origin is None or urlsplit(origin).netloc == request.headers.get("host")

    def store_filters(filters: dict[str, str]) -> dict[str, Any]:
        """The page filters as the store's query arguments (a bad confidence: no bound)."""
        try:
            limit = _parse_confidence(filters.get("max_confidence", ""))
        except ValueError:
            limit = None
        return {
            "label": filters.get("label") or None,
            "include_escalated": "include_escalated" in filters,
            "max_confidence": limit,
            "model": filters.get("model") or None,
        }

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/review") -> HTMLResponse:
        return render(request, "login", next=_safe_next(next))

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await read_form(request)
        key = (form.get("key") or [""])[0].strip()
        target = _safe_next((form.get("next") or ["/review"])[0])
        started = None
        if same_origin(request) and key and len(key) <= 200 and key.isascii():
            try:
                started = store.start_session(key)
            except NarrowtuneError:
                started = None
        if started is None:  # the key is never echoed back
            error = "That API key cannot review (wrong, revoked, or without the 'review' scope)."
            return render(request, "login", 401, next=target, error=error)
        token, _ = started
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(SESSION_HOURS * 3600),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        session = signed_in(request)
        form = await read_form(request)
        response = RedirectResponse("/login", status_code=303)
        if session is not None and may_change(request, session, form):
            store.end_session(request.cookies.get(SESSION_COOKIE, ""))
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/review", response_class=HTMLResponse, include_in_schema=False)
    def review_list(
        request: Request,
        label: str = "",
        max_confidence: str = "",
        include_escalated: str = "",
        model: str = "",
        after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
        done: int | None = None,
        did: str = "",
    ) -> Response:
        session = signed_in(request)
        if session is None:
            return to_login(request)
        filters = _filters(label, max_confidence, bool(include_escalated), model)
        values: dict[str, Any] = {
            "session": session,
            "labels": all_labels(),
            "label": label,
            "models": models.names(),
            "model": model,
            "max_confidence": max_confidence,
            "include_escalated": bool(include_escalated),
            "message": _done_message(done, did),
            "page_size": PAGE_SIZE,
            "next_page": None,
        }
        try:
            _parse_confidence(max_confidence)
            if "\x00" in label + model:
                raise ValueError("filters cannot contain NUL characters")
        except ValueError as error:
            return render(request, "list", 422, items=[], total=0, error=str(error), **values)
        query = store_filters(filters)
        items = store.open_reviews(PAGE_SIZE, after=after or None, **query)
        total = store.count_reviews(**query)
        qs = _query(filters)
        if len(items) == PAGE_SIZE:
            values["next_page"] = "/review" + _query(filters, after=str(items[-1]["id"]))
        rows = [
            {
                **item,
                "href": f"/review/{item['id']}{qs}",
                "label_text": _label_text(item["label"]),
                "short": item["text"] if len(item["text"]) <= 160 else item["text"][:157] + "…",
            }
            for item in items
        ]
        return render(request, "list", items=rows, total=total, **values)

    def neighbours(item_id: int, filters: dict[str, str]) -> tuple[str | None, str | None]:
        """Links to the previous and next queued items under the same filters (ids ascend)."""
        try:
            before, after = store.adjacent_reviews(item_id, **store_filters(filters))
        except NarrowtuneError:  # a filter the store refuses (a NUL): no neighbours
            return None, None
        qs = _query(filters)
        prev_href = f"/review/{before}{qs}" if before is not None else None
        next_href = f"/review/{after}{qs}" if after is not None else None
        return prev_href, next_href

    def item_page(
        request: Request,
        session: SessionInfo,
        item_id: int,
        filters: dict[str, str],
        status_code: int = 200,
        error: str | None = None,
        message: str | None = None,
    ) -> HTMLResponse:
        item = store.review_item(item_id)
        qs = _query(filters)
        if item is None or item["status"] not in ("open", "escalated"):
            return render(
                request, "missing", 404, session=session, item_id=item_id, qs=qs, error=error
            )
        prev_href, next_href = neighbours(item_id, filters)
        # The filters ride along (prefixed: `label` is the correction's field) so that after a
        # decision the reviewer lands on the next item of the same filtered queue.
        hidden = Markup('<input type="hidden" name="csrf" value="{}">').format(session.csrf)
        hidden += Markup("").join(
            Markup('<input type="hidden" name="f_{}" value="{}">').format(k, v)
            for k, v in filters.items()
        )
        scores = sorted(item["scores"].items(), key=lambda kv: -kv[1])
        fields = item.get("fields") if isinstance(item.get("fields"), dict) else None
        field_rows = [(name, _field_text(value)) for name, value in (fields or {}).items()]
        labels, multi_label = models.labels_for(item["task"])
        return render(
            request,
            "item",
            status_code,
            session=session,
            item={
                **item,
                "label_text": _label_text(item["label"]),
                "output_text": _output_text(item["output"]),
            },
            scores=scores,
            field_rows=field_rows,
            labels=labels,
            multi_label=multi_label,
            qs=qs,
            hidden=hidden,
            prev_href=prev_href,
            next_href=next_href,
            error=error,
            message=message,
        )

    @app.get("/review/{item_id}", response_class=HTMLResponse, include_in_schema=False)
    def review_item(
        request: Request,
        item_id: int,
        label: str = "",
        max_confidence: str = "",
        include_escalated: str = "",
        model: str = "",
        done: int | None = None,
        did: str = "",
    ) -> Response:
        session = signed_in(request)
        if session is None:
            return to_login(request)
        filters = _filters(label, max_confidence, bool(include_escalated), model)
        message = _done_message(done, did)
        return item_page(request, session, item_id, filters, message=message)

    @app.post("/review/{item_id}", include_in_schema=False)
    async def review_decide(request: Request, item_id: ItemId) -> Response:
        session = signed_in(request)
        form = await read_form(request)
        if session is None:
            return to_login(request)
        if not may_change(request, session, form):
            return render(
                request,
                "missing",
                403,
                session=session,
                item_id=item_id,
                qs="",
                error="This form is stale or came from another site: reload the item and retry.",
            )
        action = (form.get("action") or [""])[0]
        chosen = [x for x in form.get("label", []) if x]
        corrected = None
        filters = _filters(
            (form.get("f_label") or [""])[0],
            (form.get("f_max_confidence") or [""])[0],
            bool((form.get("f_include_escalated") or [""])[0]),
            (form.get("f_model") or [""])[0],
        )
        item = store.review_item(item_id)
        labels, multi_label = models.labels_for(item["task"] if item is not None else None)
        if item is not None and action == "correct":
            corrected = _checked_fields(item, form)
            if corrected is not None:
                chosen, labels = ["fields"], []
        known = set(labels)
        unknown = [x for x in chosen if known and x not in known]
        if action not in DONE_WORDS:
            error = "Choose accept, correct or escalate."
        elif action == "correct" and not chosen:
            error = "Choose the correct label before pressing Correct."
        elif unknown:
            error = f"{', '.join(unknown)} is not one of the model's labels."
        else:
            label: Any = chosen if multi_label else (chosen[0] if chosen else None)
            if corrected is not None:
                label = corrected
            try:
                store.decide(item_id, session.name, action, label if action == "correct" else None)
            except ReviewNotFound as exc:
                return item_page(request, session, item_id, filters, 404, str(exc))
            except ReviewConflict as exc:
                return item_page(request, session, item_id, filters, 409, str(exc))
            except NarrowtuneError as exc:
                return item_page(request, session, item_id, filters, 422, str(exc))
            _, next_href = neighbours(item_id, filters)
            word = DONE_WORDS[action]
            if next_href is None:
                target = "/review" + _query(filters, done=str(item_id), did=word)
            else:
                sep = "&" if "?" in next_href else "?"
                target = f"{next_href}{sep}{urlencode({'done': item_id, 'did': word})}"
            return RedirectResponse(target, status_code=303)
        return item_page(request, session, item_id, filters, 422, error)
