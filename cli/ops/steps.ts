// Install as a list of steps, each able to undo what it did. A failure rolls back the steps
// already done (newest first) so the machine is left as it was — or the error lists exactly
// what could not be undone.
import { CliError } from "../cli-error.ts";
import { color } from "./output.ts";

/** What a step did, in words, and how to take it back. */
export interface Done {
  summary?: string;
  undo?: () => Promise<void>;
  /** Described when undo is missing or fails, e.g. "system user voicesrv". */
  leaves?: string;
}

export interface Step {
  title: string;
  /** What the operator should do when this step fails. */
  fix: string;
  run(): Promise<Done | void>;
}

export class StepFailure extends CliError {
  constructor(
    message: string,
    readonly remaining: string[],
  ) {
    super(message, 1);
  }
}

export async function runSteps(steps: Step[], print: (line: string) => void = (l) => console.log(l)): Promise<void> {
  const done: { step: Step; result: Done }[] = [];
  for (const [i, step] of steps.entries()) {
    print(`${color.bold(`[${i + 1}/${steps.length}]`)} ${step.title}`);
    let result: Done | void;
    try {
      result = await step.run();
    } catch (e) {
      const reason = (e as Error).message;
      print(`      ${color.bad("failed:")} ${reason}`);
      const remaining = await rollBack(done, print);
      const left = remaining.length ? ` Could not undo: ${remaining.join("; ")}.` : done.length ? " Earlier steps were rolled back; the system is as it was." : "";
      throw new StepFailure(`step ${i + 1} "${step.title}" failed: ${reason}. To fix: ${step.fix}.${left}`, remaining);
    }
    if (result?.summary) print(`      ${result.summary}`);
    done.push({ step, result: result ?? {} });
  }
}

async function rollBack(done: { step: Step; result: Done }[], print: (line: string) => void): Promise<string[]> {
  const remaining: string[] = [];
  for (const { step, result } of done.slice().reverse()) {
    if (!result.undo) {
      if (result.leaves) remaining.push(result.leaves);
      continue;
    }
    try {
      await result.undo();
      print(`      ${color.dim(`undone: ${step.title}`)}`);
    } catch (e) {
      remaining.push(`${result.leaves ?? step.title} (${(e as Error).message})`);
    }
  }
  return remaining;
}
