export { createOutbox, type Outbox, type OutboxEvent, type OutboxHandler, type OutboxOptions } from './outbox.js';
