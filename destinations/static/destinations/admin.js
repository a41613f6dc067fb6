"use strict";
// The Copy and Show buttons of sources. The full write key is fetched with a POST when asked for,
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

    function say(button, text) {
        button.dataset.label = button.dataset.label || button.textContent;
        button.textContent = text;
        setTimeout(() => { button.textContent = button.dataset.label; }, 1500);
    }

    function show(answer) {
        document.querySelectorAll("[data-write-key]").forEach((element) => {
            element.textContent = answer.write_key;
        });
        document.querySelectorAll("pre[data-snippet]").forEach((element) => {
            element.textContent = answer.snippets[element.dataset.snippet] || element.textContent;
        });
    }

    document.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-reveal-url]");
        if (!button) {
            return;
        }
        event.preventDefault();
        reveal(button.dataset.revealUrl).then((answer) => {
            if ("show" in button.dataset) {
                show(answer);
                return;
            }
            const what = button.dataset.copy;
            const text = what === "write_key" ? answer.write_key : answer.snippets[what];
            return copy(text).then(() => say(button, "Copied"));
        }).catch(() => say(button, "Failed"));
    });
}
