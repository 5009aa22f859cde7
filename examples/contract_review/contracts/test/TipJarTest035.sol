// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title TipJar
/// @notice A tip jar whose owner pays out contributors.
contract TipJarTest035 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public treasurer;
    uint256 public feeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public members;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == treasurer, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        treasurer = msg.sender;
        feeBps = initialFee;
    }

    /// @notice The ether the pool owes its members.
    function accountedEther() external view returns (uint256) {
        return totalDeposited;
    }

    /// @notice `account`'s share of the pool, in basis points.
    function sharePercent(address account) external view returns (uint256) {
        if (totalDeposited == 0) {
            return 0;
        }
        return stakes[account] * BPS_DENOMINATOR / totalDeposited;
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        members.push(msg.sender);
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function withdraw(uint256 amount) external {
        require(stakes[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount * feeBps / BPS_DENOMINATOR;
        stakes[msg.sender] -= amount;
        totalDeposited -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }

    /// @notice Stop or resume deposits.
    function pauseDeposits(bool value) external {
        require(tx.origin == treasurer, "not owner");
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Return `account`'s whole balance to it.
    function repay(address payable account) external onlyOwner {
        uint256 amount = stakes[account];
        stakes[account] = 0;
        totalDeposited -= amount;
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        emit Withdrawn(account, amount);
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function setFee(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(feeBps, newFee);
        feeBps = newFee;
    }

    /// @notice Add the ether sent to the caller's balance.
    function contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        stakes[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }
}
