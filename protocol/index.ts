export * from "./group-name.ts";
export * from "./limits.ts";
export * from "./media-header.ts";
export * from "./member-id.ts";
export * from "./messages.ts";
