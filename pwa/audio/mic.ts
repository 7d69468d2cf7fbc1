// Microphone acquisition with the processing a phone call needs.
//
// echoCancellation "all" (newer spec: cancel everything the device plays, not only audio the page
// itself plays) is requested as a bare value: browsers that know the enum take it, older ones
// convert any non-empty string to `true` under WebIDL's boolean conversion — which is exactly the
// fallback we want, so a single request works everywhere without a second permission prompt.
export function micConstraints(): MediaStreamConstraints {
  return {
    audio: {
      echoCancellation: "all" as unknown as boolean,
      noiseSuppression: true,
      autoGainControl: true,
      channelCount: 1,
    },
    video: false,
  };
}

export async function openMic(): Promise<MediaStream> {
  try {
    return await navigator.mediaDevices.getUserMedia(micConstraints());
  } catch (e) {
    // A strict implementation may reject the string; permission errors must still surface.
    if (e instanceof TypeError || (e as { name?: string }).name === "OverconstrainedError") {
      return navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
        video: false,
      });
    }
    throw e;
  }
}
