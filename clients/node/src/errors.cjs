"use strict";
// The one error the package throws: an emulator's refusal (with its HTTP status and body), a wait that
// ran out, a server that would not start, or strict mode's findings.

class MesiboMockError extends Error {
  constructor(message, { status, body } = {}) {
    super(message);
    this.name = "MesiboMockError";
    this.status = status;
    this.body = body;
  }
}

module.exports = { MesiboMockError };
