import { onFormSubmitValidateFailed } from '@formily/core';
import { useFormEffects } from '@formily/react';
import { useRef } from 'react';

/**
 * When a submit fails validation, the form scrolls to its first error and focuses its input
 * (a long trigger form otherwise fails silently below the fold).
 */
export function FirstErrorFocus() {
  const ref = useRef<HTMLSpanElement>(null);
  useFormEffects(() => {
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
  return <span ref={ref} hidden data-testid="first-error-focus" />;
}
