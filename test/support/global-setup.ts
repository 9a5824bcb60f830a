import process from "node:process";
import postgres from "postgres";

/**
 * Runs once before the suites. Without DATABASE_URL, looks for the conventional local
 * PostgreSQL (trust auth on 127.0.0.1:5432) so that a plain `npm test` runs the shared suite on
 * both PostgreSQL and PGlite where a server is at hand; elsewhere the suite runs on PGlite only
 * and says so. CI always sets DATABASE_URL (.ci/run), and there its absence is an error.
 */
export default async function setup(): Promise<void> {
  if (process.env.DATABASE_URL || process.env.CI) return;
  const url = "postgres://postgres@127.0.0.1:5432/postgres";
  const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await probe`select 1`;
    process.env.DATABASE_URL = url;
    console.log(`DATABASE_URL not set: using the local PostgreSQL at ${url}`);
  } catch {
    console.log(
      "DATABASE_URL not set and no local PostgreSQL answers: the shared suite runs on PGlite only",
    );
  } finally {
    await probe.end({ timeout: 1 });
  }
}
