// The AudioWorkletGlobalScope isn't in TypeScript's DOM lib; these are the parts the worklets use.
// Importing this module has no runtime effect beyond reading the scope's own globals.
export interface ProcessorBase {
  readonly port: MessagePort;
}

interface WorkletScope {
  sampleRate: number;
  /** Seconds of audio rendered so far: the start of the render quantum being processed. */
  currentTime: number;
  AudioWorkletProcessor: new (options?: unknown) => ProcessorBase;
  registerProcessor(name: string, ctor: new (options: { processorOptions?: Record<string, unknown> }) => ProcessorBase): void;
}

export const scope = globalThis as unknown as WorkletScope;
