// Entry point of the app bundle (/main.js).
import { adoptPageStyles } from "./page-styles.ts";
import "./ui/app.ts";

adoptPageStyles();
