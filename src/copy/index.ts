// Copy, move and clone rows between tenants (issue 4): the public API of this area.
export {};
