// systemd/*.service|*.timer are imported `with { type: "text" }` (systemd-unit.ts): Bun inlines them.
declare module "*.service" {
  const text: string;
  export default text;
}
declare module "*.timer" {
  const text: string;
  export default text;
}
