import { describe, expect, it } from 'vitest';
import {
  BedrockTranslationError,
  exceptionNameFromHeader,
  failureFromAnthropicError,
  mapBedrockError,
  toAnthropicError,
} from '../../../src/bedrock/errors.ts';

/** What the AWS SDK throws: a named error with `$metadata.httpStatusCode` (none when thrown mid-stream). */
function sdkError(name: string, status?: number, message = `${name} message`) {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: status ? { httpStatusCode: status } : {} });
}

describe('mapBedrockError', () => {
  it.each([
    ['ThrottlingException', 429, 429, 'rate_limit_error', 'BEDROCK_THROTTLED'],
    ['ModelNotReadyException', 429, 429, 'rate_limit_error', 'BEDROCK_MODEL_NOT_READY'],
    ['ServiceQuotaExceededException', 400, 429, 'rate_limit_error', 'BEDROCK_QUOTA_EXCEEDED'],
    ['ValidationException', 400, 400, 'invalid_request_error', 'BEDROCK_VALIDATION'],
    ['AccessDeniedException', 403, 403, 'permission_error', 'BEDROCK_ACCESS_DENIED'],
    ['UnrecognizedClientException', 403, 401, 'authentication_error', 'BEDROCK_KEY_REJECTED'],
    ['ResourceNotFoundException', 404, 404, 'not_found_error', 'BEDROCK_NOT_FOUND'],
    ['ModelTimeoutException', 408, 504, 'timeout_error', 'BEDROCK_MODEL_TIMEOUT'],
    ['ModelErrorException', 424, 500, 'api_error', 'BEDROCK_MODEL_ERROR'],
    ['ModelStreamErrorException', 424, 500, 'api_error', 'BEDROCK_MODEL_STREAM_ERROR'],
    ['InternalServerException', 500, 500, 'api_error', 'BEDROCK_INTERNAL'],
    ['ServiceUnavailableException', 503, 529, 'overloaded_error', 'BEDROCK_UNAVAILABLE'],
  ])('%s (HTTP %i) → %i %s', (name, bedrockStatus, status, type, code) => {
    expect(mapBedrockError(sdkError(name, bedrockStatus, 'kept message'))).toEqual({ status, type, code, message: 'kept message', exception: name });
  });

  it.each([
    ['throttlingException', 'rate_limit_error'],
    ['serviceUnavailableException', 'overloaded_error'],
    ['validationException', 'invalid_request_error'],
    ['modelStreamErrorException', 'api_error'],
    ['internalServerException', 'api_error'],
    ['modelTimeoutException', 'timeout_error'],
  ])('the in-stream member %s → %s', (name, type) => {
    expect(mapBedrockError({ name, message: 'm' }).type).toBe(type);
  });

  it.each([
    [400, 400, 'invalid_request_error'],
    [401, 401, 'authentication_error'],
    [403, 403, 'permission_error'],
    [404, 404, 'not_found_error'],
    [408, 504, 'timeout_error'],
    [413, 413, 'request_too_large'],
    [429, 429, 'rate_limit_error'],
    [500, 500, 'api_error'],
    [502, 500, 'api_error'],
    [503, 529, 'overloaded_error'],
    [504, 504, 'timeout_error'],
    [418, 400, 'invalid_request_error'],
  ])('an unnamed HTTP %i → %i %s', (bedrockStatus, status, type) => {
    expect(mapBedrockError(sdkError('UnknownError', bedrockStatus))).toMatchObject({ status, type });
  });

  it('classifies a raw HTTP failure by its x-amzn-errortype name', () => {
    const name = exceptionNameFromHeader('ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/');
    expect(name).toBe('ThrottlingException');
    expect(mapBedrockError({ name, status: 429, message: 'slow down' })).toMatchObject({ status: 429, type: 'rate_limit_error', message: 'slow down' });
  });

  it.each([
    [{ name: 'TimeoutError', message: 'Connection timed out after 1000 ms' }, 504, 'timeout_error', 'BEDROCK_TIMEOUT'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 502, 'api_error', 'BEDROCK_UNREACHABLE'],
    [Object.assign(new Error('socket'), { code: 'UND_ERR_SOCKET' }), 502, 'api_error', 'BEDROCK_UNREACHABLE'],
    [Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 504, 'timeout_error', 'BEDROCK_TIMEOUT'],
    [new Error('???'), 500, 'api_error', 'BEDROCK_UNKNOWN'],
    ['not even an error', 500, 'api_error', 'BEDROCK_UNKNOWN'],
  ])('a transport failure %# → %i %s', (err, status, type, code) => {
    expect(mapBedrockError(err)).toMatchObject({ status, type, code });
  });

  it('passes a translation error through with its own status', () => {
    const err = new BedrockTranslationError('BEDROCK_UNSUPPORTED', 'messages[0].content[0].source.type', 'no URLs');
    expect(mapBedrockError(err)).toEqual({ status: 400, type: 'invalid_request_error', code: 'BEDROCK_UNSUPPORTED', message: 'no URLs', exception: null });
  });

  it('does not classify by message text', () => {
    expect(mapBedrockError(sdkError('UnknownError', 400, 'Too many requests, throttling'))).toMatchObject({ status: 400 });
  });
});

describe('toAnthropicError', () => {
  it('builds the Anthropic error body', () => {
    const failure = mapBedrockError(sdkError('ThrottlingException', 429, 'Rate exceeded'));
    expect(toAnthropicError(failure, 'req_1')).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'Rate exceeded' }, request_id: 'req_1' });
    expect(toAnthropicError(failure)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'Rate exceeded' } });
  });
});

describe('transport failures', () => {
  it('name the problem, not the address Node put in its message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:443'), { code: 'ECONNREFUSED' });
    expect(mapBedrockError(refused).message).toBe('Could not reach Amazon Bedrock (ECONNREFUSED)');
  });

  it('count a reset the AWS SDK calls TimeoutError as unreachable', () => {
    const reset = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
    expect(mapBedrockError(reset)).toMatchObject({ status: 502, code: 'BEDROCK_UNREACHABLE' });
  });

  it('map an HTTP 529 (the Messages endpoint) to overloaded', () => {
    expect(mapBedrockError({ status: 529, message: 'Overloaded' })).toMatchObject({ status: 529, type: 'overloaded_error' });
  });
});

describe('failureFromAnthropicError', () => {
  it.each([
    ['overloaded_error', 529],
    ['rate_limit_error', 429],
    ['invalid_request_error', 400],
    ['api_error', 500],
    ['something_new', 500],
  ])('%s → %i', (type, status) => {
    expect(failureFromAnthropicError(type, 'm')).toMatchObject({ status, message: 'm', code: 'BEDROCK_STREAM_ERROR' });
  });
});

describe('mapBedrockError: a prompt that does not fit reaches Claude Code in a wording its recovery keys on', () => {
  it.each<[string, { name?: string; status?: number; message: string }, number, string]>([
    ['Converse / InvokeModel', { name: 'ValidationException', message: 'Input is too long for requested model.' }, 400, 'Input is too long for requested model.'],
    ['the model, through InvokeModel', { name: 'ValidationException', message: 'prompt is too long: 215000 tokens > 200000 maximum' }, 400, 'prompt is too long: 215000 tokens > 200000 maximum'],
    ['the whole message', { name: 'ValidationException', message: 'Input is too long.' }, 400, 'Input is too long.'],
    ['a 413 from the Messages endpoint', { status: 413, message: 'prompt is too long: 300000 tokens > 200000 maximum' }, 400, 'prompt is too long: 300000 tokens > 200000 maximum'],
    ['other wording', { name: 'ValidationException', message: 'Too many input tokens for this model' }, 400, 'prompt is too long: Too many input tokens for this model'],
    ['context window exceeded', { name: 'ValidationException', message: 'The request exceeds the model context window' }, 400, 'prompt is too long: The request exceeds the model context window'],
  ])('%s', (_name, err, status, message) => {
    const failure = mapBedrockError(err);
    expect(failure).toMatchObject({ status, type: 'invalid_request_error', code: 'BEDROCK_PROMPT_TOO_LONG', message });
  });

  it.each([
    ['a max_tokens overflow keeps its own wording', { name: 'ValidationException', message: 'input length and `max_tokens` exceed context limit: 190000 + 32000 > 200000' }],
    ['an unrelated validation error', { name: 'ValidationException', message: 'tools.0.name: String should have at most 64 characters' }],
    ['a throttle that mentions tokens', { name: 'ThrottlingException', message: 'Too many tokens, please wait before trying again.' }],
  ])('%s', (_name, err) => {
    const failure = mapBedrockError(err);
    expect(failure.code).not.toBe('BEDROCK_PROMPT_TOO_LONG');
    expect(failure.message).toBe(err.message);
  });
});
