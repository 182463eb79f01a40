// Isolation verification (issue 5): the public API of this area.
export {};
