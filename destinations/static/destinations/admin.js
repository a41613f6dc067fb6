"use strict";
// The Copy and Show/Hide buttons of sources. The full write key is fetched with a POST when asked for,
// rather than written into the page, so it never sits in a page's HTML, the cache or a saved page.
{
    const answers = new Map();

    function csrfToken() {
        const input = document.querySelector("input[name=csrfmiddlewaretoken]");
        if (input) {
            return input.value;
        }
        const cookie = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
        return cookie ? decodeURIComponent(cookie[1]) : "";
    }

    function reveal(url) {
        if (!answers.has(url)) {
            const asked = fetch(url, {
                method: "POST",
                credentials: "same-origin",
                headers: {"X-CSRFToken": csrfToken()},
            }).then((response) => {
                if (!response.ok) {
                    throw new Error(`HTTP ${response.status}`);
                }
                return response.json();
            });
            asked.catch(() => answers.delete(url));
            answers.set(url, asked);
        }
        return answers.get(url);
    }

    function copy(text) {
        if (navigator.clipboard && window.isSecureContext) {
            return navigator.clipboard.writeText(text);
        }
        // Pages served over plain HTTP (other than localhost) have no clipboard API.
        const area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "fixed";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        const copied = document.execCommand("copy");
        area.remove();
        return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
    }

    // A button named by aria-label is not re-read when its text changes: "Copied" is also said here.
    function status() {
        let region = document.getElementById("cio-status");
        if (!region) {
            region = document.createElement("div");
            region.id = "cio-status";
            region.className = "visually-hidden";
            region.setAttribute("role", "status");
            document.body.appendChild(region);
        }
        return region;
    }

    function say(button, text) {
        button.dataset.label = button.dataset.label || button.textContent;
        button.textContent = text;
        status().textContent = `${text}: ${button.getAttribute("aria-label") || button.dataset.label}`;
        setTimeout(() => { button.textContent = button.dataset.label; }, 1500);
    }

    // Each masked text is kept on its element, so Hide puts back exactly what the page had.
    function fill(element, text) {
        if (!("masked" in element.dataset)) {
            element.dataset.masked = element.textContent;
        }
        element.textContent = text === undefined ? element.dataset.masked : text;
    }

    // The button's name says what pressing it does next ("Show write key", "Hide write key").
    function show(button, answer) {
        const showing = answer !== undefined;
        document.querySelectorAll("[data-write-key]").forEach((element) => {
            fill(element, showing ? answer.write_key : undefined);
        });
        document.querySelectorAll("pre[data-snippet]").forEach((element) => {
            fill(element, showing ? answer.snippets[element.dataset.snippet] : undefined);
        });
        button.dataset.shown = String(showing);
        button.textContent = showing ? "Hide write key" : "Show write key";
    }

    // There before anything is said in it, so that screen readers listen to it.
    document.addEventListener("DOMContentLoaded", status);

    document.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-reveal-url]");
        if (!button) {
            return;
        }
        event.preventDefault();
        if (button.dataset.shown === "true") {
            show(button);
            return;
        }
        reveal(button.dataset.revealUrl).then((answer) => {
            if ("show" in button.dataset) {
                show(button, answer);
                return;
            }
            const what = button.dataset.copy;
            const text = what === "write_key" ? answer.write_key : answer.snippets[what];
            return copy(text).then(() => say(button, "Copied"));
        }).catch(() => say(button, "Failed"));
    });
}
