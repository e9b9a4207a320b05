import { isField, onFieldReact, onFormSubmitValidateFailed } from '@formily/core';
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
  useFormEffects(() => {
    onFieldReact('*', (field) => {
      if (!isField(field)) return;
      const errors = field.selfErrors.filter((e) => typeof e === 'string' && e !== '');
      const text = errors.length > 1 ? [...new Set(errors)].join('\n') : undefined;
      if (field.decoratorProps?.feedbackText !== text) field.setDecoratorProps({ feedbackText: text });
    });
    onFormSubmitValidateFailed(() => {
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
