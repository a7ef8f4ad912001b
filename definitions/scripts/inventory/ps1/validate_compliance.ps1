# validate_compliance: the files found against the policy. A required file missing or a forbidden
# one present is FAIL_STRICT; only recommended ones missing is FAIL_SOFT; else PASS. A policy name
# matches a path or a file's base name.
# Input (stdin, JSON): { file_list, rules: {required_files, recommended_files, forbidden_files} }
# Output (stdout, JSON): { compliance_status, violations, compliance_score, checked_files }
. "$PSScriptRoot/common.ps1"

$in = Read-TaskInput
$files = @($in.file_list)
$rules = $in.rules
$names = [System.Collections.Generic.HashSet[string]]::new([string[]]$files)
foreach ($f in $files) { [void]$names.Add(($f -split '/')[-1]) }
$missingRequired = @($rules.required_files | Where-Object { -not $names.Contains($_) })
$forbidden = @($rules.forbidden_files | Where-Object { $names.Contains($_) })
$missingRecommended = @($rules.recommended_files | Where-Object { -not $names.Contains($_) })
$violations = @($missingRequired | ForEach-Object { "$_ missing" }) + @($forbidden | ForEach-Object { "$_ is forbidden" }) + @($missingRecommended | ForEach-Object { "$_ missing (recommended)" })
$status = if ($missingRequired.Count + $forbidden.Count -gt 0) { 'FAIL_STRICT' } elseif ($missingRecommended.Count -gt 0) { 'FAIL_SOFT' } else { 'PASS' }
$checks = @($rules.required_files).Count + @($rules.recommended_files).Count + @($rules.forbidden_files).Count
$score = if ($checks -gt 0) { [int][Math]::Floor(100 * ($checks - $violations.Count) / $checks + 0.5) } else { 100 }
Write-TaskOutput ([ordered]@{ compliance_status = $status; violations = $violations; compliance_score = $score; checked_files = $files.Count })
