export {
  createOutbox,
  type Outbox,
  type OutboxEvent,
  type OutboxHandler,
  type OutboxOptions,
  type OutboxTopics,
  type Topic,
} from './outbox.js';
