'use strict';
// Loads the compiled addon, or exports { unavailable: reason } when it is missing.
const path = require('node:path');
try {
  module.exports = require(path.join(__dirname, 'build', 'Release', 'goten_native.node'));
} catch (err) {
  module.exports = { unavailable: `native addon not built (${err && err.message ? err.message.split('\n')[0] : err})` };
}
