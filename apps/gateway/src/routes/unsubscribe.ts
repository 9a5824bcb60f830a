import type { App, AppDeps } from "../deps.ts";
import { ServiceError } from "../services/errors.ts";
import { unsubscribe } from "../services/unsubscribe.ts";

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}button{font:inherit;padding:.4em 1em}</style></head><body>${body}</body></html>`;

/**
 * `POST /u/{token}`: the one-click unsubscription of RFC 8058, without a login (the token is the
 * proof). `GET /u/{token}` is what a person clicking the link sees: a button that posts, so that
 * a mail scanner following links does not unsubscribe anyone.
 */
export function registerUnsubscribe(app: App, deps: AppDeps): void {
  app.post("/u/:token", async (c) => {
    try {
      await unsubscribe(deps, c.req.param("token"));
    } catch (error) {
      if (error instanceof ServiceError && error.code === "notFound") {
        return c.html(page("Unknown link", "<p>This unsubscribe link is not valid.</p>"), 404);
      }
      throw error;
    }
    return c.html(
      page("Unsubscribed", "<p>You are unsubscribed: no more of these messages.</p>"),
      200,
    );
  });
  app.get("/u/:token", (c) =>
    c.html(
      page(
        "Unsubscribe",
        `<form method="post"><p>Stop receiving these messages?</p><button type="submit">Unsubscribe</button></form>`,
      ),
    ));
}
