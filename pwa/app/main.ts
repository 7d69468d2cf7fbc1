// Entry point of the app bundle (/main.js).
import "./ui/app.ts";
