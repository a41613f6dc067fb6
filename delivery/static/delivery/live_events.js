"use strict";
// A source's live events (templates/admin/delivery/live_events.html): polls the events newer than the
// newest shown and the refused requests every few seconds, until paused. Every value from a payload
// goes in as text, never as HTML.
{
    const MAX_ROWS = 500;

    function element(tag, options = {}, children = []) {
        const made = document.createElement(tag);
        for (const [name, value] of Object.entries(options)) {
            if (name === "text") {
                made.textContent = value;
            } else if (name === "className") {
                made.className = value;
            } else {
                made.setAttribute(name, value);
            }
        }
        for (const child of children) {
            if (child !== null && child !== undefined) {
                made.append(child);
            }
        }
        return made;
    }

    function cell(label, children, className = "") {
        return element("td", {"data-label": label, className}, children);
    }

    function getJson(url) {
        return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}}).then((answer) => {
            if (!answer.ok) {
                throw new Error(`HTTP ${answer.status}`);
            }
            if (!(answer.headers.get("Content-Type") || "").startsWith("application/json")) {
                throw new Error("signed out? reload the page");
            }
            return answer.json();
        });
    }

    function withQuery(url, name, value) {
        return value === null ? url : `${url}?${name}=${encodeURIComponent(value)}`;
    }

    // A row that opens a detail row under it, filled once by `load` (a promise of text).
    function detailToggle(label, columns, load) {
        const button = element("button", {type: "button", className: "button live-toggle", "aria-expanded": "false", text: `Show ${label}`});
        let detail = null;
        button.addEventListener("click", () => {
            const row = button.closest("tr");
            if (detail === null) {
                const pre = element("pre", {className: "relay-pre live-pre", text: "Loading…"});
                detail = element("tr", {className: "live-detail"}, [element("td", {colspan: String(columns)}, [pre])]);
                load().then((text) => { pre.textContent = text; }, (error) => { pre.textContent = `Could not load: ${error.message}`; });
                row.after(detail);
            } else {
                detail.hidden = !detail.hidden;
            }
            const open = !detail.hidden;
            button.setAttribute("aria-expanded", String(open));
            button.textContent = `${open ? "Hide" : "Show"} ${label}`;
        });
        return button;
    }

    function personLinks(event) {
        const parts = [];
        if (event.user_id) {
            parts.push(element("a", {href: event.user_url, title: "userId: this person's timeline"}, [event.user_id]));
        }
        if (event.anonymous_id) {
            parts.push(element("span", {className: "live-quiet", text: event.user_id ? " anon " : "anon "}));
            parts.push(element("a", {href: event.anonymous_url, title: "anonymousId: this person's timeline"}, [event.anonymous_id]));
        }
        return parts.length ? parts : [element("span", {className: "live-quiet", text: "—"})];
    }

    function eventRow(event) {
        const routed = event.destinations
            ? element("a", {href: event.log_url, title: event.destinations_detail}, [event.destinations_text])
            : element("span", {className: "live-none", text: event.destinations_text});
        const messageId = [element("code", {text: event.message_id})];
        if (event.repeats) {
            messageId.push(element("span", {className: "live-quiet", text: ` +${event.repeats} repeat${event.repeats > 1 ? "s" : ""} dropped`}));
        }
        const payload = detailToggle("payload", 7, () => getJson(event.payload_url).then((answer) => JSON.stringify(answer.payload, null, 2)));
        return element("tr", {"data-event-id": String(event.id), className: event.destinations ? "" : "live-unrouted"}, [
            cell("Received", [element("time", {datetime: event.received_at, text: event.received})], "live-nowrap"),
            cell("Type", [event.type]),
            cell("Event", [event.event_name || "—"]),
            cell("Person", personLinks(event)),
            cell("messageId", messageId),
            cell("Routed to", [routed]),
            cell("Payload", [payload]),
        ]);
    }

    function refusedRow(example) {
        const client = [example.client_address || "—"];
        if (example.user_agent) {
            client.push(element("div", {className: "live-quiet live-agent", text: example.user_agent}));
        }
        let body = [element("span", {className: "live-quiet", text: "not read", title: "refused before its body was read"})];
        if (example.body) {
            body = [detailToggle("body", 6, () => Promise.resolve(example.body))];
        }
        if (example.body_bytes !== null) {
            body.push(element("div", {className: "live-quiet", text: `${example.body_bytes.toLocaleString()} bytes`}));
        }
        return element("tr", {"data-refused-id": String(example.id)}, [
            cell("Received", [element("time", {datetime: example.received_at, text: example.received})]),
            cell("Status", [element("strong", {text: String(example.status)}), " ", element("code", {text: example.code})], "live-nowrap"),
            cell("Message", [example.message]),
            cell("Request", [element("code", {text: `${example.method} ${example.path}`})]),
            cell("Client", client),
            cell("Body", body),
        ]);
    }

    // One list (events or refused examples): the newest shown, the oldest shown, and "Older".
    class Feed {
        constructor(root, {url, tbody, empty, older, render, items, id}) {
            this.url = url;
            this.tbody = root.querySelector(tbody);
            this.empty = root.querySelector(empty);
            this.older = root.querySelector(older);
            this.render = render;
            this.items = items;
            this.id = id;
            this.newest = null;
            this.oldest = null;
            this.older.addEventListener("click", () => this.loadOlder());
        }

        rows() {
            return this.tbody.querySelectorAll(":scope > tr:not(.live-detail)");
        }

        // The first page, or after a gap (more new rows than a page): start again from the newest.
        reset(answer) {
            this.tbody.replaceChildren();
            this.newest = this.oldest = null;
            this.append(answer);
        }

        append(answer) {
            const list = this.items(answer);
            for (const item of list) {
                this.tbody.append(this.render(item));
            }
            if (list.length) {
                this.newest = this.newest === null ? list[0].id : this.newest;
                this.oldest = list[list.length - 1].id;
            }
            this.older.hidden = !answer.more;
            this.empty.hidden = this.rows().length > 0;
        }

        prepend(answer) {
            const list = this.items(answer);
            if (!list.length) {
                return;
            }
            const first = this.tbody.firstChild;
            for (const item of list) {
                const row = this.render(item);
                row.classList.add("live-new");
                this.tbody.insertBefore(row, first);
            }
            this.newest = list[0].id;
            this.oldest = this.oldest === null ? list[list.length - 1].id : this.oldest;
            this.trim();
            this.empty.hidden = true;
        }

        trim() {
            const rows = this.rows();
            if (rows.length <= MAX_ROWS) {
                return;
            }
            for (const row of Array.from(rows).slice(MAX_ROWS)) {
                const detail = row.nextElementSibling;
                if (detail && detail.classList.contains("live-detail")) {
                    detail.remove();
                }
                row.remove();
            }
            const last = this.rows()[MAX_ROWS - 1];
            this.oldest = Number(last.dataset[this.id]);
            this.older.hidden = false;
        }

        poll() {
            if (this.newest === null) {
                return getJson(this.url).then((answer) => { this.reset(answer); return answer; });
            }
            return getJson(withQuery(this.url, "after", this.newest)).then((answer) => {
                if (answer.more) {
                    return getJson(this.url).then((first) => { this.reset(first); return first; });
                }
                this.prepend(answer);
                return answer;
            });
        }

        loadOlder() {
            this.older.disabled = true;
            getJson(withQuery(this.url, "before", this.oldest))
                .then((answer) => this.append(answer))
                .finally(() => { this.older.disabled = false; });
        }
    }

    function showCounts(root, answer) {
        const tbody = root.querySelector("#live-refusal-counts tbody");
        tbody.replaceChildren(...answer.counts.map((row) => element("tr", {}, [
            cell("Status", [String(row.status)]),
            cell("Reason", [element("code", {text: row.code})]),
            cell("Refused", [row.count.toLocaleString()]),
        ])));
        root.querySelector("[data-counts-empty]").hidden = answer.counts.length > 0;
        const total = root.querySelector("[data-refused-total]");
        if (total) {
            total.textContent = `(${answer.total.toLocaleString()} in 24 h)`;
            total.classList.toggle("live-count-some", answer.total > 0);
        }
    }

    function tabs(root) {
        const buttons = root.querySelectorAll("[role=tab]");
        for (const button of buttons) {
            button.addEventListener("click", () => {
                for (const other of buttons) {
                    const chosen = other === button;
                    other.setAttribute("aria-selected", String(chosen));
                    document.getElementById(other.getAttribute("aria-controls")).hidden = !chosen;
                }
            });
        }
    }

    function start(root) {
        const seconds = Number(root.dataset.pollSeconds) || 3;
        const state = root.querySelector("[data-state]");
        const pause = root.querySelector("[data-pause]");
        const feeds = [];
        if (root.dataset.eventsUrl) {
            feeds.push(new Feed(root, {
                url: root.dataset.eventsUrl, tbody: "#live-events-table tbody", empty: "[data-empty]",
                older: "[data-older]", render: eventRow, items: (answer) => answer.events, id: "eventId",
            }));
        }
        const refused = new Feed(root, {
            url: root.dataset.refusedUrl, tbody: "#live-refused-table tbody", empty: "[data-refused-empty]",
            older: "[data-older-refused]", render: refusedRow, items: (answer) => answer.examples, id: "refusedId",
        });
        feeds.push(refused);
        let paused = false;
        let timer = null;
        let polling = false;

        function say(text) {
            state.textContent = text;
        }

        function tick() {
            timer = null;
            polling = true;
            Promise.all(feeds.map((feed) => feed.poll().then((answer) => {
                if (feed === refused) {
                    showCounts(root, answer);
                }
            }))).then(() => {
                if (!paused) {
                    say(`Live: refreshed at ${new Date().toLocaleTimeString()}, every ${seconds} s`);
                }
            }, (error) => {
                say(`Could not refresh (${error.message}); trying again`);
            }).finally(() => {
                polling = false;
                if (!paused) {
                    timer = setTimeout(tick, seconds * 1000);
                }
            });
        }

        pause.addEventListener("click", () => {
            paused = !paused;
            pause.textContent = paused ? "Resume" : "Pause";
            pause.setAttribute("aria-pressed", String(paused));
            root.classList.toggle("live-paused", paused);
            if (paused) {
                clearTimeout(timer);
                timer = null;
                say("Paused: new events are not shown until you resume");
            } else {
                say("Live: refreshing…");
                // A poll still under way when paused schedules the next one itself.
                if (timer === null && !polling) {
                    tick();
                }
            }
        });
        tabs(root);
        tick();
    }

    document.addEventListener("DOMContentLoaded", () => {
        const root = document.getElementById("live");
        if (root) {
            start(root);
        }
    });
}
