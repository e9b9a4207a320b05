// The names and defaults live in src/common, shared with the admin UI.
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOLERANCE_SECONDS,
  HEADER_NAME_PATTERN,
  KEY_PATTERN,
  METHODS,
  type Method,
  RESPONSE_INSTRUCTION,
  ROUTE_SEGMENT,
  SECRET_MASK,
  TRIGGER_TYPE,
} from '../common/constants';
