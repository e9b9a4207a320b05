import { type Field, type GeneralField, onFieldValidateEnd, onFormSubmitValidateFailed } from '@formily/core';
import { useFormEffects } from '@formily/react';
import { useRef } from 'react';

/** The feedback of a field with several messages: one a line (FormItem joins them with ", "). */
const ONE_A_LINE = `
.ant-drawer-content:has([data-testid="first-error-focus"]) .ant-formily-item-help,
.ant-modal-content:has([data-testid="first-error-focus"]) .ant-formily-item-help {
  white-space: pre-line;
}`;

/**
 * In the form it is placed in:
 * - when a submit fails validation, the form scrolls to its first error and focuses its input
 *   (a long trigger form otherwise fails silently below the fold);
 * - a field with several messages ("The field value is required" and "Enter the secret") shows
 *   each on its own line, not run together with a comma.
 */
export function FirstErrorFocus() {
  const ref = useRef<HTMLSpanElement>(null);
  useFormEffects((form) => {
    // Events, not reactions: the fields were made before these effects were added.
    onFieldValidateEnd('*', (field) => setTimeout(() => oneMessageALine(field)));
    onFormSubmitValidateFailed(() => {
      form.query('*').forEach(oneMessageALine);
      setTimeout(() => {
        const scope: ParentNode = ref.current?.closest('.ant-drawer-content, .ant-modal-content, form') ?? document;
        const item = scope.querySelector('.ant-formily-item-error, .ant-form-item-has-error');
        if (!item) return;
        item.scrollIntoView({ block: 'center' });
        const input = item.querySelector<HTMLElement>(
          'input:not([type=hidden]):not([disabled]), textarea:not([disabled]), [contenteditable=true], .ant-select-selection-search-input',
        );
        input?.focus({ preventScroll: true });
      }, 50);
    });
  });
  return (
    <>
      <span ref={ref} hidden data-testid="first-error-focus" />
      <style>{ONE_A_LINE}</style>
    </>
  );
}

/**
 * A field with several messages gets them as one, a line each (white-space: pre-line above).
 * NocoBase's FormItem sets its own feedbackText, so the field's error feedbacks are merged:
 * the first holds every message, joined by newlines; the others are emptied (removed).
 */
function oneMessageALine(node: GeneralField) {
  // Not `isField`: its instanceof may see another copy of @formily/core than the form's.
  const field = node as Field;
  if (!Array.isArray(field?.feedbacks) || typeof field.setFeedback !== 'function') return;
  const feedbacks = field.feedbacks.filter((f) => f.type === 'error' && f.messages?.length);
  const messages = [...new Set(feedbacks.flatMap((f) => f.messages ?? []).filter((m) => typeof m === 'string' && m))];
  if (messages.length < 2) return;
  feedbacks.forEach((f, i) => {
    field.setFeedback({ ...f, messages: i === 0 ? [messages.join('\n')] : [] });
  });
}
