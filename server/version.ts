import pkg from "../package.json" with { type: "json" };

// `bun cli/build.ts --build-label X` defines this at compile time (a release tag, or a test
// build that must differ from another): the version then reads "0.1.0+X".
declare const VOICESRV_BUILD_LABEL: string | undefined;
const label = typeof VOICESRV_BUILD_LABEL === "string" ? VOICESRV_BUILD_LABEL : "";

export const VERSION: string = label ? `${pkg.version}+${label}` : pkg.version;
