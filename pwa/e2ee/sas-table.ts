// PROTOCOL.md §5: the fixed table of 64 SAS symbols. Part of protocol v1 — changing an entry
// or the order needs a new protocol version (the test suite pins a hash of this table).
//
// The selection and order are the 64 emoji of the Matrix SAS verification table, chosen
// there to be visually distinct, to render on all major platforms, and to have short,
// unambiguous English names that can be read aloud; names are lower case as in PROTOCOL.md.
// Index = 6-bit value.

export interface SasSymbol {
  readonly emoji: string;
  readonly name: string;
}

export const SAS_TABLE: readonly SasSymbol[] = Object.freeze(
  (
    [
      ["🐶", "dog"],
      ["🐱", "cat"],
      ["🦁", "lion"],
      ["🐎", "horse"],
      ["🦄", "unicorn"],
      ["🐷", "pig"],
      ["🐘", "elephant"],
      ["🐰", "rabbit"],
      ["🐼", "panda"],
      ["🐓", "rooster"],
      ["🐧", "penguin"],
      ["🐢", "turtle"],
      ["🐟", "fish"],
      ["🐙", "octopus"],
      ["🦋", "butterfly"],
      ["🌷", "flower"],
      ["🌳", "tree"],
      ["🌵", "cactus"],
      ["🍄", "mushroom"],
      ["🌏", "globe"],
      ["🌙", "moon"],
      ["☁️", "cloud"],
      ["🔥", "fire"],
      ["🍌", "banana"],
      ["🍎", "apple"],
      ["🍓", "strawberry"],
      ["🌽", "corn"],
      ["🍕", "pizza"],
      ["🎂", "cake"],
      ["❤️", "heart"],
      ["😀", "smiley"],
      ["🤖", "robot"],
      ["🎩", "hat"],
      ["👓", "glasses"],
      ["🔧", "spanner"],
      ["🎅", "santa"],
      ["👍", "thumbs up"],
      ["☂️", "umbrella"],
      ["⌛", "hourglass"],
      ["⏰", "clock"],
      ["🎁", "gift"],
      ["💡", "light bulb"],
      ["📕", "book"],
      ["✏️", "pencil"],
      ["📎", "paperclip"],
      ["✂️", "scissors"],
      ["🔒", "lock"],
      ["🔑", "key"],
      ["🔨", "hammer"],
      ["☎️", "telephone"],
      ["🏁", "flag"],
      ["🚂", "train"],
      ["🚲", "bicycle"],
      ["✈️", "aeroplane"],
      ["🚀", "rocket"],
      ["🏆", "trophy"],
      ["⚽", "ball"],
      ["🎸", "guitar"],
      ["🎺", "trumpet"],
      ["🔔", "bell"],
      ["⚓", "anchor"],
      ["🎧", "headphones"],
      ["📁", "folder"],
      ["📌", "pin"],
    ] as const
  ).map(([emoji, name]) => Object.freeze({ emoji, name })),
);
