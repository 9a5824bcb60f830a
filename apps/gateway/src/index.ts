export { type App, createApp } from "./app.ts";
export { type Config, loadConfig, parseConfig, StartupError } from "./config.ts";
export { type RunningGateway, startGateway } from "./server.ts";
